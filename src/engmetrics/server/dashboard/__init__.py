"""The MCP App dashboard (`ui://engmetrics/dashboard`): the HTML resource, the tools it renders, and the extra
data it draws for get_dora."""
