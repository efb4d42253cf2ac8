"""The two baselines the bench ships and runs on the same `centers` table and data as the service."""
