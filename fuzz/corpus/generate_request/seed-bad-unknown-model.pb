
otherx