"""The core: customers and identities, tickets, messages, teams and agents, the timeline."""
