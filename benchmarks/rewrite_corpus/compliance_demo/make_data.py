"""Synthetic customers and support mails for the compliance demo (the data `lester demo` uses).

Usage: python make_data.py DIR ROWS   (ROWS customers, three mails each)
"""
import sys

from lester.demo.data import write_demo_data

if __name__ == "__main__":
    write_demo_data(sys.argv[1], customers=int(sys.argv[2]))
