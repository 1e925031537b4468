"""Yutang's Prefect flows: lifecycle jobs that reach the services only through the gateway."""
