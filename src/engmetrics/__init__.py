"""engmetrics: engineering metrics (DORA, flow, risk, forecasts, reports) for AI agents over MCP."""

__version__ = "0.1.0"
