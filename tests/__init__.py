"""The test suite. A package only so that `tests.support` imports the same way everywhere."""
