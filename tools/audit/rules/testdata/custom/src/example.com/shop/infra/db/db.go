package db

func Open() {}
