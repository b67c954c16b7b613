#!/bin/sh
pg_dump > /dump.sql
