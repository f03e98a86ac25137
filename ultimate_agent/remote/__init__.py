"""Remote management: the command registry, its handlers and the service that runs and audits them."""
