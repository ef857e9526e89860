package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// parseYAML reads a YAML config (PM2 uses js-yaml) into a node tree. It
// walks goccy/go-yaml's AST itself rather than decoding into Go values, so
// that every value keeps its line and column, merge keys (<<: *base) work,
// and alias expansion is counted: a "billion laughs" file is refused
// instead of expanded.
func parseYAML(src []byte) (*node, error) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, yamlError(err)
	}
	var docs []*ast.DocumentNode
	for _, d := range f.Docs {
		if d != nil && d.Body != nil && !isYAMLComment(d.Body) {
			docs = append(docs, d)
		}
	}
	switch len(docs) {
	case 0:
		return nil, &syntaxError{pos: pos{1, 1}, msg: "the file is empty; write apps: followed by a list of apps"}
	case 1:
	default:
		p := yamlPos(docs[1].Body)
		return nil, &syntaxError{pos: p, msg: fmt.Sprintf("the file holds %d YAML documents (--- separators); put every app in one document under apps:", len(docs))}
	}
	c := &yamlConv{anchors: map[string]*node{}, sizes: map[*node]int{}}
	n, err := c.conv(docs[0].Body, 0)
	if err != nil {
		return nil, err
	}
	return n, nil
}

func isYAMLComment(n ast.Node) bool {
	switch n.(type) {
	case *ast.CommentGroupNode, *ast.CommentNode:
		return true
	}
	return false
}

// yamlError turns a goccy error (multi-line, with a source excerpt) into a
// one-line syntaxError with its position.
func yamlError(err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		tk := ye.GetToken()
		p := tk.Position
		switch msg := ye.GetMessage(); msg {
		case "value is not allowed in this context":
			// A key indented less than the keys above it.
			return &syntaxError{pos: pos{p.Line, p.Column}, msg: misindented(tk.Value)}
		case "mapping value is not allowed in this context":
			// A key indented more than the keys above it continues the
			// value above as a multi-line plain scalar ("app.js env"), so
			// goccy points at that value, on the line above. Point at the
			// key's colon, as js-yaml (PM2's parser) does.
			if next, words := tk.Next, strings.Fields(tk.Value); next != nil && next.Position != nil && next.Position.Line > p.Line && len(words) > 0 {
				return &syntaxError{pos: pos{next.Position.Line, next.Position.Column}, msg: misindented(words[len(words)-1])}
			}
			return &syntaxError{pos: pos{p.Line, p.Column}, msg: msg}
		default:
			return &syntaxError{pos: pos{p.Line, p.Column}, msg: msg}
		}
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return &syntaxError{pos: pos{1, 1}, msg: msg}
}

// misindented is the message for a key indented unlike its siblings.
func misindented(key string) string {
	return fmt.Sprintf("bad indentation of a mapping entry: %q is not in line with the keys above it; indent it as they are", key)
}

type yamlConv struct {
	anchors map[string]*node
	// sizes memoizes the expanded size of shared (aliased) subtrees.
	sizes map[*node]int
	total int
}

func yamlPos(n ast.Node) pos {
	if n == nil {
		return pos{}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return pos{}
	}
	return pos{tk.Position.Line, tk.Position.Column}
}

// expanded counts the values n stands for once aliases are expanded.
func (c *yamlConv) expanded(n *node) int {
	if s, ok := c.sizes[n]; ok {
		return s
	}
	s := 1
	for _, e := range n.arr {
		s += c.expanded(e)
		if s > maxNodes {
			break
		}
	}
	for _, m := range n.obj {
		s += c.expanded(m.val)
		if s > maxNodes {
			break
		}
	}
	c.sizes[n] = s
	return s
}

func (c *yamlConv) grow(n *node, at pos) error {
	c.total += c.expanded(n)
	if c.total > maxNodes {
		return &syntaxError{pos: at, msg: fmt.Sprintf("aliases expand to more than %d values; the file looks like an alias bomb", maxNodes)}
	}
	return nil
}

func (c *yamlConv) conv(an ast.Node, depth int) (*node, error) {
	at := yamlPos(an)
	if depth > maxDepth {
		return nil, &syntaxError{pos: at, msg: fmt.Sprintf("values are nested more than %d levels deep", maxDepth)}
	}
	switch n := an.(type) {
	case nil:
		return &node{kind: kNull, pos: at}, nil
	case *ast.DocumentNode:
		return c.conv(n.Body, depth)
	case *ast.CommentGroupNode, *ast.CommentNode:
		return &node{kind: kNull, pos: at}, nil
	case *ast.MappingNode:
		out := &node{kind: kObject, pos: at}
		explicit := map[string]pos{}
		for _, mv := range n.Values {
			if err := c.member(out, explicit, mv, depth); err != nil {
				return nil, err
			}
		}
		if len(n.Values) > 0 {
			out.pos = yamlPos(n.Values[0].Key)
		}
		return out, c.grow(&node{}, at)
	case *ast.MappingValueNode:
		out := &node{kind: kObject, pos: yamlPos(n.Key)}
		if err := c.member(out, map[string]pos{}, n, depth); err != nil {
			return nil, err
		}
		return out, c.grow(&node{}, at)
	case *ast.SequenceNode:
		out := &node{kind: kArray, pos: at}
		for _, e := range n.Values {
			v, err := c.conv(e, depth+1)
			if err != nil {
				return nil, err
			}
			out.arr = append(out.arr, v)
		}
		return out, c.grow(&node{}, at)
	case *ast.AnchorNode:
		v, err := c.conv(n.Value, depth)
		if err != nil {
			return nil, err
		}
		c.anchors[n.Name.GetToken().Value] = v
		return v, nil
	case *ast.AliasNode:
		name := n.Value.GetToken().Value
		v, ok := c.anchors[name]
		if !ok {
			return nil, &syntaxError{pos: at, msg: fmt.Sprintf("alias *%s names no anchor &%s defined above it", name, name)}
		}
		return v, c.grow(v, at)
	case *ast.TagNode:
		switch n.Start.Value {
		case "!!map", "!!seq", "!!omap", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq":
			return c.conv(n.Value, depth)
		}
		var v any
		if err := yaml.NodeToValue(n, &v); err != nil {
			return nil, &syntaxError{pos: at, msg: fmt.Sprintf("tag %s: %s; remove the tag or fix the value", n.Start.Value, firstLine(err))}
		}
		out, err := goScalar(v, at)
		if err != nil {
			return nil, err
		}
		return out, c.grow(out, at)
	}
	out, err := c.scalar(an, at)
	if err != nil {
		return nil, err
	}
	return out, c.grow(out, at)
}

func (c *yamlConv) scalar(an ast.Node, at pos) (*node, error) {
	switch n := an.(type) {
	case *ast.NullNode:
		return &node{kind: kNull, pos: at}, nil
	case *ast.StringNode:
		return &node{kind: kString, s: n.Value, pos: at}, nil
	case *ast.LiteralNode:
		return &node{kind: kString, s: n.Value.Value, pos: at}, nil
	case *ast.BoolNode:
		return &node{kind: kBool, b: n.Value, pos: at}, nil
	case *ast.IntegerNode:
		return goScalar(n.Value, at)
	case *ast.FloatNode:
		return &node{kind: kNumber, n: n.Value, pos: at}, nil
	case *ast.InfinityNode:
		return &node{kind: kNumber, n: n.Value, pos: at}, nil
	case *ast.NanNode:
		return &node{kind: kNumber, n: math.NaN(), pos: at}, nil
	case *ast.MappingKeyNode:
		return nil, &syntaxError{pos: at, msg: "complex mapping keys (? key) are not supported; use a plain key"}
	}
	return nil, &syntaxError{pos: at, msg: fmt.Sprintf("unexpected YAML %s", an.Type())}
}

func goScalar(v any, at pos) (*node, error) {
	switch v := v.(type) {
	case nil:
		return &node{kind: kNull, pos: at}, nil
	case string:
		return &node{kind: kString, s: v, pos: at}, nil
	case []byte:
		return &node{kind: kString, s: string(v), pos: at}, nil
	case bool:
		return &node{kind: kBool, b: v, pos: at}, nil
	case int:
		return &node{kind: kNumber, n: float64(v), pos: at}, nil
	case int64:
		return &node{kind: kNumber, n: float64(v), pos: at}, nil
	case uint64:
		return &node{kind: kNumber, n: float64(v), pos: at}, nil
	case float64:
		return &node{kind: kNumber, n: v, pos: at}, nil
	case *big.Int:
		f, _ := new(big.Float).SetInt(v).Float64()
		return &node{kind: kNumber, n: f, pos: at}, nil
	case time.Time:
		return &node{kind: kString, s: v.Format(time.RFC3339Nano), pos: at}, nil
	}
	return nil, &syntaxError{pos: at, msg: fmt.Sprintf("unsupported YAML value of type %T", v)}
}

// member adds one key: value pair to out, applying merge keys (<<) the way
// YAML 1.1 and js-yaml do: explicit keys win over merged ones, and earlier
// merged maps win over later ones.
func (c *yamlConv) member(out *node, explicit map[string]pos, mv *ast.MappingValueNode, depth int) error {
	keyPos := yamlPos(mv.Key)
	if mv.Key != nil && mv.Key.IsMergeKey() {
		v, err := c.conv(mv.Value, depth+1)
		if err != nil {
			return err
		}
		var sources []*node
		switch v.kind {
		case kObject:
			sources = []*node{v}
		case kArray:
			sources = v.arr
		}
		if len(sources) == 0 && v.kind != kNull {
			return &syntaxError{pos: keyPos, msg: "a merge key (<<) needs a mapping or a list of mappings, like <<: *base"}
		}
		for _, src := range sources {
			if src.kind != kObject {
				return &syntaxError{pos: keyPos, msg: "a merge key (<<) needs a mapping or a list of mappings, like <<: *base"}
			}
			for _, m := range src.obj {
				if out.get(m.key) == nil {
					out.obj = append(out.obj, m)
				}
			}
		}
		return nil
	}
	k, err := c.conv(mv.Key, depth+1)
	if err != nil {
		return err
	}
	if k.kind == kObject || k.kind == kArray {
		return &syntaxError{pos: keyPos, msg: "a mapping key must be a plain value, not a mapping or a list"}
	}
	key := k.jsString()
	if k.kind == kNull {
		key = "null"
	}
	if prev, dup := explicit[key]; dup {
		return &syntaxError{pos: keyPos, msg: fmt.Sprintf("key %q is already defined at line %d; remove one of them", key, prev.line)}
	}
	explicit[key] = keyPos
	v, err := c.conv(mv.Value, depth+1)
	if err != nil {
		return err
	}
	out.set(key, keyPos, v)
	return nil
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
