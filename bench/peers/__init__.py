"""Other consumers of the same pre-loaded topic, run as their own processes.

Each prints one JSON line ``{"events", "seconds", "rate"}`` timed from its
first record to its last processed one (start-up excluded, as for ShopStream).
"""
