"""The lab: a simulated fleet of Windows/Exchange hosts on loopback (protocols/, answers/)."""
