"""Bundled samples of MNIST, Fashion-MNIST and a text corpus."""
