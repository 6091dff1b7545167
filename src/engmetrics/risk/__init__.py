"""Change risk: features of a change (`features`), SZZ labels (`szz`), the model (`model`), its rolling
evaluation (`evaluate`), training with a cache in the store (`training`) and scoring (`score`)."""
