"""The MCP face: the harness's governed tools and `ask` over the Model Context Protocol."""
