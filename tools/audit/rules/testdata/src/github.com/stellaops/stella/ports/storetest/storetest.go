package storetest

func Run() {}
