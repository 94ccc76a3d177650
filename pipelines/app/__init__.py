"""The use cases: import, plan, render, cost and export, each one function with all its checks.

The command line, the studio and the render workers call these and nothing lower for what they
have in common, so both UIs render and export by the same rules.
"""
