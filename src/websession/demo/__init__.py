"""The demo app: a tour of websession (session, cart, CSRF, accounts, devices, admin)."""
