"""Folium map builders: pure assembly from run results (no file access)."""
