"""Items: the example resource, a template for every feature that follows."""
