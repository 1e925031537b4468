"""Points as cash at checkout (积分抵现): quote and hold, capture, void; expired holds release themselves."""
