#ifndef PROPELLER_CMOSQUITTO_SHIM_H
#define PROPELLER_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#endif
