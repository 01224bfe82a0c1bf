"""Session backends that are not stores: ``cookie`` keeps the session in the browser.

Import ``websession.backends.cookie`` only with the ``cookie`` extra installed.
"""
