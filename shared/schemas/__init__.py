"""Request and response models (XCreate / XUpdate / XPublic), snake_case with camelCase aliases."""
