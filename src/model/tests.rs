//! Unit tests of the reference model, one per contract rule.
