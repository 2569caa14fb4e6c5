"""Chat models: the provider factory and the offline model, knowing no graph or database."""
