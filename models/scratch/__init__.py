"""Networks written in NumPy only: backpropagation by hand, finite differences, perceptron."""
