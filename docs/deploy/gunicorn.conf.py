"""gunicorn settings for each `commandhall web` process (docs/deploy.md).

    commandhall web --port 8001 --gunicorn-config /etc/commandhall/gunicorn.conf.py

`commandhall web` keeps `workers = 1` and `worker_class = "gthread"` whatever this file says
(a Socket.IO session lives in one process; scale with more processes behind nginx) and takes
the address from --host/--port. Sized for one of four web processes of a Wuwei-sized city
(2,500 grid workers, 105 township centres, ~300 screens) on one 8-core server.
"""

# Each open websocket holds one gthread thread for its whole life (simple-websocket), and so
# does a long-poll request while it waits. A quarter of 300 screens and of ~1,500 phones on
# duty holding /field sockets is ~450 connections; 200 more serve HTTP and absorb a
# reconnect storm. Idle threads cost ~64 KB each; busy ones share one GIL.
threads = 650

# Open connections the worker accepts: the threads' plus idle keep-alive connections from
# nginx (parked in the event loop, no thread).
worker_connections = 1000

# gthread answers the arbiter from its event loop, so a long websocket never trips this; only
# a worker whose event loop is stuck for 30 s is restarted.
timeout = 30

# On SIGTERM the worker stops accepting and waits this long for open requests; websockets
# never finish by themselves, so it is how long screens keep their old process before they
# reconnect (through nginx, to another process) and replay from their last seq.
graceful_timeout = 10

# Longer than nginx's upstream keepalive_timeout (60 s), so nginx closes idle connections first.
keepalive = 75

# Only nginx on this host may set X-Forwarded-For / -Proto (wss:// origin checks need them).
forwarded_allow_ips = "127.0.0.1,::1"

# nginx writes the access log; errors go to the journal.
accesslog = None
errorlog = "-"
loglevel = "info"

# Never recycle the worker after N requests: it would drop every screen on it.
max_requests = 0
