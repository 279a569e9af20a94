"""Pages of the core: the agent workspace (`agent`) and customer self-service (`portal`)."""
