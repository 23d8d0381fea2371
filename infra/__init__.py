"""Deployment of Dr.Gero to a Google Cloud project (see deploy.py)."""
