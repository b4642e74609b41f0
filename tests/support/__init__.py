"""What tests share: fake masters, server instances, seeds, databases and helpers."""
