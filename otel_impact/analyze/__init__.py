"""Pure statistics: numpy/scipy arrays in, small frozen dataclasses out (no I/O, no clock)."""
