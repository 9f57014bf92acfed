"""The transparency log (issue 14): every chain event, in commit order, as a leaf of one
RFC 9162 Merkle tree, with signed checkpoints a tablet, a leader or an auditor can keep."""
