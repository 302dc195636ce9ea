"""Weight banding reproduction."""
