"""One router module per resource; each is thin (parse, call the store or engine, shape)."""
