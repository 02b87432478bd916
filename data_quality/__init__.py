"""Great Expectations suites that gate the pipeline, one per guarded table."""
