//! Integration tests: the real binary against an in-process sandbox.
