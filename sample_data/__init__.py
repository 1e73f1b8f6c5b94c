"""Bundled samples of MNIST, Fashion-MNIST and two text corpora (lyrics, Shakespeare)."""
