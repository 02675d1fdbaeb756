"""Broker adapters behind one neutral interface (base.py); one package per broker."""
