"""Tables, figures and the README results section."""
