"""Deploy checks of diagrams and forms: XML safety, per-file checks, uploads, bundles checked together."""
