"""The session engine: policy without I/O or framework imports."""
