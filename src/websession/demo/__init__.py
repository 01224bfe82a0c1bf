"""The demo app: accounts with passwords, active devices, a visit counter and flash messages."""
