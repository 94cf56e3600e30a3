"""Bytes and strings only: decoding (decode.py) and repair (repair.py)."""
