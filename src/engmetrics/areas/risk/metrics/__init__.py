"""Change risk's pure computations: changes and their features, the model, its evaluation, the wording."""
