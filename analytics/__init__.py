"""KPIs, the live supervisor board, reports and forecasts. Reads the core; nobody imports it."""
