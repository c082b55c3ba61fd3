"""bzgate: host tools for Bluezone checkpoint gates."""
