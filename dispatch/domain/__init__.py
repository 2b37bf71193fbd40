"""The case domain: pure Python, no framework imports.

Everything here takes `now` as an argument; nothing reads the wall clock.
"""
