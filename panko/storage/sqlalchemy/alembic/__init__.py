"""The alembic environment and migrations of the SQL driver.

A package, so that setuptools installs it as one rather than as data.
"""
