/* hiredis against a running recd, pipelined: ./hiredis_pipeline PORT
 * recd must listen on 127.0.0.1:PORT serving the sample snapshot (config/sample).
 * Build: cc -O1 -o hiredis_pipeline hiredis_pipeline.c -lhiredis
 * Five commands go out in one write (redisAppendCommand), then the five
 * replies are read in order and their types checked. */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(int type) {
    switch (type) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "other";
    }
}

static int fail(const char *what, redisReply *r, const char *expected) {
    fprintf(stderr, "FAIL %s: expected %s, got %s", what, expected, r ? type_name(r->type) : "no reply");
    if (r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STRING))
        fprintf(stderr, " '%.*s'", (int)r->len, r->str);
    if (r && r->type == REDIS_REPLY_ARRAY) fprintf(stderr, " of %zu elements", r->elements);
    fprintf(stderr, "\n");
    return 1;
}

static int is_status(redisReply *r, const char *text) {
    return r->type == REDIS_REPLY_STATUS && r->len == strlen(text) && memcmp(r->str, text, r->len) == 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    struct timeval timeout = {10, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", atoi(argv[1]), timeout);
    if (c == NULL || c->err) {
        fprintf(stderr, "FAIL connect: %s\n", c ? c->errstr : "cannot allocate a context");
        return 1;
    }
    redisSetTimeout(c, timeout);

    redisAppendCommand(c, "PING");
    redisAppendCommand(c, "SIM %s %s", "85123A", "k=3");
    redisAppendCommand(c, "HELLO 2");
    redisAppendCommand(c, "EVENT %s %s %s", "cuser", "85123A", "view");
    redisAppendCommand(c, "REC %s %s", "cuser", "k=2");

    const char *names[] = {"PING", "SIM 85123A k=3", "HELLO 2", "EVENT cuser 85123A view", "REC cuser k=2"};
    int status = 0;
    for (int i = 0; i < 5 && status == 0; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || r == NULL) {
            fprintf(stderr, "FAIL %s: no reply (%s)\n", names[i], c->errstr);
            status = 1;
            break;
        }
        switch (i) {
        case 0:
            if (!is_status(r, "PONG")) status = fail(names[i], r, "status PONG");
            break;
        case 1:
            if (r->type != REDIS_REPLY_ARRAY || r->elements == 0 || r->elements % 2 != 0 || r->elements > 6)
                status = fail(names[i], r, "an array of 2 to 6 elements, even");
            else
                for (size_t j = 0; j < r->elements; j++)
                    if (r->element[j]->type != REDIS_REPLY_STRING) {
                        status = fail(names[i], r->element[j], "bulk strings (item, score, ...)");
                        break;
                    }
            break;
        case 2:
            if (r->type != REDIS_REPLY_ARRAY || r->elements != 14)
                status = fail(names[i], r, "an array of 14 elements (7 pairs, RESP2)");
            break;
        case 3:
            if (!is_status(r, "OK")) status = fail(names[i], r, "status OK");
            break;
        case 4:
            if (r->type != REDIS_REPLY_ARRAY) status = fail(names[i], r, "an array");
            break;
        }
        freeReplyObject(r);
    }
    redisFree(c);
    if (status == 0) printf("hiredis: all checks passed\n");
    return status;
}
