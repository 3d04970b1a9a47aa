"""Local development: the local service, the development identity provider and emulator launchers.

Nothing here is deployed; the Lambda and Functions packages leave this package out.
"""
