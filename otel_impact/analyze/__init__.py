"""Pure statistics: numpy/scipy arrays in, frozen dataclasses out (no I/O, no clock)."""

__all__: list[str] = []
