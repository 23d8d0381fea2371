"""Dr.Gero core: domain, services, ports, adapters and the HTTP machinery."""
