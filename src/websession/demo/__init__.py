"""The demo app: a visit counter, login, flash messages and logout."""
